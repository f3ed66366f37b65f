/**
 * The fold: `evolveItem` and `evolveAccount` apply one event to a state. Both are pure and total:
 * any sequence of events gives a state, including changes to items whose creation was never seen
 * (they become stubs with `known: false`) and changes after a deletion.
 */
import type { AccountEvent, ItemEvent } from './events'
import type { AccountState, ItemState } from './state'
import { normaliseSet } from './flags'
import { FolderIds } from './folders'
import type { ItemId } from './ids'

const stub = (e: ItemEvent): ItemState => ({
  itemId: e.itemId,
  itemType: 'itemType' in e && e.itemType !== undefined ? e.itemType : 'unknown',
  folderId: 'folderId' in e && e.folderId !== undefined ? e.folderId : (FolderIds.USER_ROOT as ItemId),
  flags: [],
  tags: [],
  status: 'live',
  known: false,
})

export const evolveItem = (current: ItemState | undefined, e: ItemEvent): ItemState => {
  if (e.type === 'ItemCreated') {
    const s: ItemState = {
      itemId: e.itemId,
      itemType: e.itemType,
      folderId: e.folderId,
      flags: normaliseSet(e.flags),
      tags: normaliseSet(e.tags),
      status: 'live',
      known: true,
      createdAt: e.occurredAt,
    }
    return {
      ...s,
      ...(e.name !== undefined && { name: e.name }),
      ...(e.content !== undefined && { content: e.content }),
      ...(e.headers !== undefined && { headers: e.headers }),
      ...(e.internalDate !== undefined && { internalDate: e.internalDate }),
      ...(e.imap !== undefined && { imap: e.imap }),
      ...(e.uid !== undefined && { uid: e.uid }),
      ...(e.dav !== undefined && { dav: e.dav }),
      ...(e.davFields !== undefined && { davFields: e.davFields }),
    }
  }
  const s = current ?? stub(e)
  switch (e.type) {
    case 'ItemMoved':
      return { ...s, folderId: e.folderId, ...(e.imap !== undefined && { imap: e.imap }), ...(e.dav !== undefined && { dav: e.dav }) }
    case 'ItemRenamed':
      return { ...s, name: e.name }
    case 'ItemFlagsChanged':
      return { ...s, flags: normaliseSet(e.flags) }
    case 'ItemTagsChanged':
      return { ...s, tags: normaliseSet(e.tags) }
    case 'ItemContentChanged':
      return {
        ...s,
        content: e.content,
        ...(e.headers !== undefined && { headers: e.headers }),
        ...(e.name !== undefined && { name: e.name }),
        ...(e.uid !== undefined && { uid: e.uid }),
        ...(e.dav !== undefined && { dav: e.dav }),
        ...(e.davFields !== undefined && { davFields: e.davFields }),
      }
    case 'ItemDeleted':
      // A deletion seen twice (a log line pinning what a scan bounded) keeps the first instant.
      return s.status === 'deleted' ? s : { ...s, status: 'deleted', deletedAt: e.occurredAt }
    case 'ItemPurged':
      return { ...s, status: 'purged', purgedAt: e.occurredAt, purgeReason: e.reason }
  }
}

export const evolveAccount = (s: AccountState, e: AccountEvent): AccountState => {
  switch (e.type) {
    case 'AccountCreated': {
      const { deletedAt: _gone, ...rest } = s
      return { ...rest, name: e.name, createdAt: e.occurredAt }
    }
    case 'AccountRenamed':
      return { ...s, name: e.name }
    case 'AccountDeleted':
      return { ...s, deletedAt: e.occurredAt }
    case 'LegalHoldSet':
      return {
        ...s,
        legalHold: { by: e.by ?? 'unknown', since: e.occurredAt, ...(e.reason !== undefined && { reason: e.reason }) },
      }
    case 'LegalHoldReleased': {
      const { legalHold: _released, ...rest } = s
      return rest
    }
  }
}
