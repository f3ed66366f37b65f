/** Who runs an operation: decoded once into the settings (MAILTIME_INITIATOR, the config's smtp.initiator, or the OS user). */
import type { Settings } from '../config'

export const initiatorOf = (settings: Settings): string => settings.operator
