/**
 * Whether an integration suite may skip when its server is missing. Under
 * MAILTIME_REQUIRE_SERVICES=1 (CI) a missing server fails the suite instead.
 */
export const servicesRequired = (): boolean => process.env.MAILTIME_REQUIRE_SERVICES === '1'

/** `describe` when the service is available, or when it is required (so that the suite fails loudly); otherwise `describe.skip`. */
export const describeWithService = (available: boolean, what: string): jest.Describe => {
  if (available || servicesRequired()) return describe
  process.stderr.write(`skipping ${what} suite: not installed (set MAILTIME_REQUIRE_SERVICES=1 to make this a failure)\n`)
  return describe.skip
}
