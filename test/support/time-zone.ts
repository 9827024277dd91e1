/**
 * Runs a test body with the process in another time zone, so that code
 * reading a zone-less time in the local zone (`new Date("2024-05-01T12:00")`)
 * gives a different instant than UTC and the test can tell. Node applies a
 * change of `process.env.TZ` at once; the zone is put back afterwards.
 */
export async function inTimeZone<T>(zone: string, body: () => T | Promise<T>): Promise<T> {
  const before = process.env.TZ;
  process.env.TZ = zone;
  try {
    return await body();
  } finally {
    if (before === undefined) delete process.env.TZ;
    else process.env.TZ = before;
  }
}
