/** A store URL fit to print: its password, if it has one, replaced by `***`. */
export const redactUrl = (url: string): string =>
  url.replace(/\/\/([^:@/]*)(:[^@/]*)?@/, (_, user: string, password: string | undefined) => `//${user}${password === undefined ? '' : ':***'}@`)
