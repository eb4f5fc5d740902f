import { expect } from 'chai'
import { DashboardFiles, dashboardUrl } from '../src/dashboard-files.ts'
import { contentDisposition } from '../src/http-api.ts'

describe('dashboard files', () => {
  it('serves the page at / and its modules and styles by name, nothing else from the folder', async () => {
    const files = new DashboardFiles()
    await files.load()
    expect(files.match('/')).to.equal(files.match('/index.html'))
    for (const name of ['/app.js', '/api.js', '/view.js', '/format.js', '/style.css']) expect(files.match(name), name).to.not.equal(undefined)
    expect(files.match('/app.js')?.type).to.equal('text/javascript; charset=utf-8')
    // negative controls: the type-check config, paths out of the folder
    expect(files.match('/tsconfig.json')).to.equal(undefined)
    expect(files.match('/../src/repo.ts')).to.equal(undefined)
  })

  it('puts the token in the fragment of the address, which browsers never send', () => {
    expect(dashboardUrl('http://127.0.0.1:7870', 'abc-_1')).to.equal('http://127.0.0.1:7870/#token=abc-_1')
  })

  it('names downloads with an ASCII fallback and the exact UTF-8 name', () => {
    expect(contentDisposition('report.pdf')).to.equal('attachment; filename="report.pdf"; filename*=UTF-8\'\'report.pdf')
    expect(contentDisposition('été "v2".txt')).to.equal('attachment; filename="_t_ _v2_.txt"; filename*=UTF-8\'\'%C3%A9t%C3%A9%20%22v2%22.txt')
    expect(contentDisposition('')).to.equal('attachment')
  })
})
