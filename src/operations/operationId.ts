/** Operation ids: sortable by start time, unique across processes (`op-20261127T011200-3fa9c1`). */
import { randomBytes } from 'crypto'

export const newOperationId = (now: number): string => `op-${new Date(now).toISOString().replace(/[-:]/g, '').slice(0, 15)}-${randomBytes(3).toString('hex')}`
