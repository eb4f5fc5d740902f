import { createMemoryChunkStore } from '../src/index.ts'
import { describeChunkStore } from './chunk-store-suite.ts'

describeChunkStore('memory chunk store', init => createMemoryChunkStore(init))
