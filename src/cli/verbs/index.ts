/** Every verb the CLI knows, in the order `--help` lists them. */
import type { Verb } from '../grammar'
import { audited } from '../audited'
import { doAccountScan, doSmartScan } from './capture'
import { getCaptureStatus } from './captureStatus'
import { demo } from './demo'
import { importLog } from './importLog'
import { doItemRestore, doRestoreOnNewAccount, doUndelete } from './restore'
import { doExternalRestore } from './externalRestore'
import { doStopOperation, getAllOperations, monitor } from './operations'
import { doPurge, legalHoldVerb as legalHold } from './retention'
import { doRewind } from './rewind'
import { exportHistoryVerb, verifyExportVerb } from './export'
import { migrateBlobsVerb, migrateStoreVerb } from './migrate'
import { serve } from './serve'
import { getActivity } from './activity'
import { doCoherencyCheck } from './coherency'
import { diffVerb, doItemSearch, getAccountInfo, getAccountState, getAvailableAccounts, getItem, rebuildIndex } from './inspect'

export const VERBS: readonly Verb[] = [
  getItem,
  getAccountState,
  doItemSearch,
  diffVerb,
  getActivity,
  getAvailableAccounts,
  getAccountInfo,
  rebuildIndex,
  doCoherencyCheck,
  audited('scan', doAccountScan),
  audited('scan', doSmartScan),
  getCaptureStatus,
  audited('import', importLog),
  doItemRestore,
  doRestoreOnNewAccount,
  doUndelete,
  doRewind,
  doExternalRestore,
  getAllOperations,
  monitor,
  doStopOperation,
  doPurge,
  legalHold,
  exportHistoryVerb,
  verifyExportVerb,
  migrateStoreVerb,
  migrateBlobsVerb,
  demo,
  serve,
]
