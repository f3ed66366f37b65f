/** Who runs an operation: MAILTIME_INITIATOR, the config's smtp.initiator, or the OS user (recorded and notified). */
import * as os from 'os'
import type { Settings } from '../config'

export const initiatorOf = (settings: Settings): string => settings.env.MAILTIME_INITIATOR ?? settings.config.smtp?.initiator ?? os.userInfo().username
