/**
 * Instants on the page: shown in the viewer's time zone (the browser's, named on the page), typed
 * into `datetime-local` fields as wall-clock time of that zone, and sent to the API as ISO-8601 UTC.
 */

export const viewerZone = (): string => Intl.DateTimeFormat().resolvedOptions().timeZone

/** "3 Mar 2026, 14:02:00" in `zone`. */
export const showInstant = (ms: number, zone: string): string => new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'medium', timeZone: zone }).format(new Date(ms))

const pad = (n: number, w = 2): string => String(n).padStart(w, '0')

/** The `datetime-local` value (local wall clock, to the second) of an instant. */
export const toLocalField = (ms: number): string => {
  const d = new Date(ms)
  return `${pad(d.getFullYear(), 4)}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
}

/** The instant a `datetime-local` value means in the viewer's zone, or undefined if it is not one. */
export const fromLocalField = (value: string): number | undefined => {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(value)) return undefined
  const ms = new Date(value).getTime()
  return Number.isNaN(ms) ? undefined : ms
}

export const iso = (ms: number): string => new Date(ms).toISOString()
