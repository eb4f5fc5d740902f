/** Waits until `check` holds or `ms` have passed, looking every few ms; resolves what `check` says last. */
export async function until (check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms
  while (!check() && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 5))
  return check()
}
