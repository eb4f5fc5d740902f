/** The healer could not find a healthy copy to repair from. */
export class NoHealthyCopyError extends Error {
  static name = 'NoHealthyCopyError'
  name = 'NoHealthyCopyError'
  code = 'ERR_NO_HEALTHY_COPY'
}
