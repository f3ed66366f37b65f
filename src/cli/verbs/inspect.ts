/**
 * Verbs that look into the backup without changing it: getItem, getAccountState, doItemSearch,
 * diff, getAvailableAccounts, getAccountInfo, and rebuildIndex (which only rebuilds a derived
 * table).
 */
import * as E from 'fp-ts/Either'
import { parseItemId, streamOfAccount, type AccountId } from '../../../domain/ids'
import { MAX_INSTANT, type Instant } from '../../../domain/instant'
import type { ItemState } from '../../../domain/state'
import { SEARCHABLE_TYPES } from '../../../domain/itemTypes'
import { davChanges, davDetailRows, davSearchFields } from '../../dav/fields'
import { accountAsOf, diff } from '../../../projections/accountView'
import { accountSummary, findAccount, listAccountIds } from '../../app/accounts'
import { instantArg, noteDates } from '../dateArgs'
import { folderTreesOf } from '../folderTrees'
import { notFound, usage, fromStoreError } from '../failure'
import type { Context, Verb } from '../grammar'
import { clip, foundOrFail, human, itemJson, itemLabel, must, table, viewJson, when } from '../render'

const account = { name: 'account', help: 'account name (login or e-mail address)' }

const resolve = async (ctx: Context, raw: string): Promise<AccountId> => foundOrFail(raw, await must(findAccount((await ctx.backend()), raw)))


export const getItem: Verb = {
  name: 'getItem',
  summary: "Shows an item's state as of a date, or every state with its validity interval (date all).",
  positionals: [account, { name: 'item', help: 'item id' }],
  attributes: [{ name: 'date', help: 'dd/MM/yyyy HH:mm:ss, ISO-8601, last (default) or all' }],
  examples: ['mailtime getItem alice@example.com 1042 date all', 'mailtime getItem alice@example.com 1042 date "03/03/2026 14:02:00"'],
  exitCodes: ['3: the account is unknown, or the item never existed in it'],
  run: async (ctx, { positionals: [rawAccount = '', rawItem = ''], attrs }) => {
    const a = await resolve(ctx, rawAccount)
    const item = parseItemId(rawItem)
    if (item === undefined) throw usage(`getItem: item id must be a positive integer, got ${JSON.stringify(rawItem)}`)
    const history = await must((await ctx.backend()).index.itemHistory(a, item))
    if (history.length === 0) throw notFound(`item ${item} never existed in account ${a}`)
    const { zone } = ctx
    if ((attrs.date ?? '').toLowerCase() === 'all') {
      const versions = []
      const trees = folderTreesOf((await ctx.backend()), a)
      // Each version's folder as of the instant the version began (for a deletion: when it was deleted).
      for (const v of history) versions.push({ ...v, path: (await trees(v.validFrom, [v.state.folderId])).pathOf(v.state.folderId) })
      // Contacts, appointments and tasks: what each version changed, field by field.
      const dav = history.some((v) => v.state.dav !== undefined)
      const changes = history.map((v, i) => {
        const before = history[i - 1]?.state
        const name = before !== undefined && before.name !== v.state.name ? [`name ${before.name ?? '(none)'} → ${v.state.name ?? '(none)'}`] : []
        return [...name, ...davChanges(before, v.state)]
      })
      const rows = versions.map((v, i) => [
        human(v.validFrom, zone),
        human(v.validTo, zone),
        v.cause,
        v.state.status,
        v.path,
        v.state.flags.join(' ') || '-',
        v.state.tags.join(',') || '-',
        ...(dav ? [(changes[i] ?? []).join('; ') || '-'] : []),
      ])
      const first = history[0]?.state
      return {
        json: {
          account: a,
          itemId: item,
          versions: versions.map((v, i) => ({
            validFrom: when(v.validFrom, zone),
            validTo: when(v.validTo, zone),
            cause: v.cause,
            eventId: v.eventId,
            state: itemJson(v.state, v.path, zone),
            ...(dav && { changes: changes[i] ?? [] }),
          })),
        },
        text: [
          `item ${item} (${first?.itemType ?? '?'}) of ${a}${first !== undefined && itemLabel(first) ? `: ${clip(itemLabel(first))}` : ''}`,
          `times in ${zone}`,
          table([['from', 'to', 'change', 'status', 'folder', 'flags', 'tags', ...(dav ? ['what changed'] : [])], ...rows]),
        ].join('\n'),
      }
    }
    const at = attrs.date === undefined ? (MAX_INSTANT as Instant) : instantArg(attrs.date, zone, 'date', { last: true })
    await noteDates(ctx, a, [{ what: 'date', at, asOf: true }])
    const v = history.find((h) => h.validFrom <= at && (h.validTo === null || h.validTo > at))
    if (v === undefined) {
      const from = history[0]?.validFrom
      return {
        json: { account: a, itemId: item, asOf: when(at, zone) ?? 'last', version: null },
        text: `item ${item} did not exist yet at ${human(at, zone)} (first seen ${human(from, zone)})`,
      }
    }
    const path = (await folderTreesOf((await ctx.backend()), a)(at, [v.state.folderId])).pathOf(v.state.folderId)
    const s = v.state
    return {
      json: {
        account: a,
        itemId: item,
        asOf: when(at, zone) ?? 'last',
        version: { validFrom: when(v.validFrom, zone), validTo: when(v.validTo, zone), cause: v.cause, eventId: v.eventId, state: itemJson(s, path, zone) },
      },
      text: table([
        ['item', `${item} (${s.itemType})`],
        ['account', a],
        ['as of', at >= MAX_INSTANT ? 'last' : human(at, zone)],
        ['status', s.status + (s.deletedAt !== undefined ? ` since ${human(s.deletedAt, zone)}` : '')],
        ['folder', path],
        ['valid', `${human(v.validFrom, zone)} → ${human(v.validTo, zone)} (${v.cause})`],
        ['flags', s.flags.join(' ') || '-'],
        ['tags', s.tags.join(', ') || '-'],
        ...(s.headers?.subject !== undefined ? [['subject', s.headers.subject]] : []),
        ...(s.headers?.from !== undefined ? [['from', s.headers.from]] : []),
        ...(s.headers?.messageId !== undefined ? [['message-id', s.headers.messageId]] : []),
        ...(s.name !== undefined ? [['name', s.name]] : []),
        ...davDetailRows(s),
        ...(s.content !== undefined ? [['digest', `${s.content.digest} (${s.content.size} bytes)`]] : []),
      ]),
    }
  },
}

export const getAccountState: Verb = {
  name: 'getAccountState',
  summary: 'Shows the folder tree with item counts, and the items, of an account as of a date.',
  positionals: [account],
  attributes: [
    { name: 'date', help: 'dd/MM/yyyy HH:mm:ss, ISO-8601 or last (default)' },
    { name: 'known_at', help: 'as the backup knew it at this date (system time); default: now' },
  ],
  examples: ['mailtime getAccountState alice@example.com date "03/03/2026 14:02:00"'],
  run: async (ctx, { positionals: [raw = ''], attrs }) => {
    const a = await resolve(ctx, raw)
    const validAt = attrs.date === undefined ? (MAX_INSTANT as Instant) : instantArg(attrs.date, ctx.zone, 'date', { last: true })
    const knownAt = attrs.known_at === undefined ? undefined : instantArg(attrs.known_at, ctx.zone, 'known_at')
    await noteDates(ctx, a, [{ what: 'date', at: validAt, asOf: true }, ...(knownAt !== undefined ? [{ what: 'known_at', at: knownAt, asOf: false }] : [])])
    const v = await must(accountAsOf((await ctx.backend()).index, a, { validAt, ...(knownAt !== undefined && { knownAt }) }))
    const { zone } = ctx
    const lines = [
      `${v.account.name} as of ${validAt >= MAX_INSTANT ? 'last' : human(validAt, zone)}${knownAt !== undefined ? `, as known at ${human(knownAt, zone)}` : ''}` +
        (v.exists ? '' : ' (the account did not exist then)'),
      '',
      table([['folder', 'items'], ...v.folders.map((f) => [f.path, String(f.itemCount)])]),
      '',
      `${v.items.length} item(s)`,
      table([
        ['id', 'type', 'folder', 'flags', 'subject / name'],
        ...v.items.slice(0, 200).map((i) => [String(i.itemId), i.itemType, i.folderPath, i.state.flags.join(' ') || '-', clip(itemLabel(i.state))]),
      ]),
      ...(v.items.length > 200 ? [`… ${v.items.length - 200} more (use --json for all)`] : []),
    ]
    return { json: viewJson(v, zone), text: lines.join('\n') }
  },
}

const matches = (s: ItemState, needle: string | undefined): boolean =>
  needle === undefined ||
  [s.headers?.subject, s.headers?.from, s.headers?.to, s.headers?.messageId, s.name, s.uid, ...davSearchFields(s)].some((f) => f !== undefined && f.includes(needle))

export const doItemSearch: Verb = {
  name: 'doItemSearch',
  summary: 'Finds items in the backup; by default lists deleted messages, as Carbonio does.',
  positionals: [account],
  attributes: [
    { name: 'search_string', help: 'case-sensitive text matched against subject, from, to, Message-ID and names (contacts, events, tasks: also UID, e-mail addresses, organizer, attendees)' },
    { name: 'type', help: 'item type (default message)', values: [...SEARCHABLE_TYPES, 'all'] },
    { name: 'before', help: 'only items deleted (filter deleted) or created (otherwise) before this date' },
    { name: 'after', help: 'only items deleted (filter deleted) or created (otherwise) at or after this date' },
    { name: 'search_filter', help: 'deleted (default), not_deleted or all', values: ['all', 'deleted', 'not_deleted'] },
  ],
  examples: ['mailtime doItemSearch alice@example.com search_string invoice', 'mailtime doItemSearch alice@example.com search_filter all type all'],
  run: async (ctx, { positionals: [raw = ''], attrs }) => {
    const a = await resolve(ctx, raw)
    const { zone } = ctx
    const filter = attrs.search_filter ?? 'deleted'
    const type = attrs.type ?? 'message'
    const before = attrs.before === undefined ? undefined : instantArg(attrs.before, zone, 'before', { last: true })
    const after = attrs.after === undefined ? undefined : instantArg(attrs.after, zone, 'after', { first: true })
    const ix = (await ctx.backend()).index
    const last = { validAt: MAX_INSTANT as Instant }
    const live = await must(ix.liveItemsAsOf(a, last))
    const liveIds = new Set(live.map((s) => s.itemId))
    const deletedVersions = filter === 'not_deleted' ? [] : await must(ix.deletedBetween(a, { from: 0 as Instant, to: MAX_INSTANT as Instant }))
    // The latest deletion of each item that is still gone (an item deleted and re-created is live).
    const deleted = new Map<number, ItemState>()
    for (const v of deletedVersions) if (!liveIds.has(v.itemId)) deleted.set(v.itemId, v.state)
    for (const [id] of deleted) {
      const now = await must(ix.itemAsOf(a, id as never, last))
      if (now?.state.status === 'purged') deleted.set(id, now.state)
    }
    const pool = [...(filter === 'deleted' ? [] : live), ...(filter === 'not_deleted' ? [] : deleted.values())]
    const hits = pool
      .filter((s) => type === 'all' || s.itemType === type)
      .filter((s) => matches(s, attrs.search_string))
      .filter((s) => {
        const t = s.status === 'live' ? s.createdAt : s.deletedAt
        return (before === undefined || (t !== undefined && t < before)) && (after === undefined || (t !== undefined && t >= after))
      })
      .sort((x, y) => x.itemId - y.itemId)
    const rows = []
    const trees = folderTreesOf((await ctx.backend()), a)
    for (const s of hits) {
      // A deleted item's folder as of its deletion, as getItem's deletion version names it.
      const at = s.status === 'live' ? MAX_INSTANT : (s.deletedAt ?? s.purgedAt ?? MAX_INSTANT)
      rows.push({ s, path: (await trees(at, [s.folderId])).pathOf(s.folderId) })
    }
    return {
      json: { account: a, filter, type, count: rows.length, items: rows.map(({ s, path }) => itemJson(s, path, zone)) },
      text:
        rows.length === 0
          ? `no ${filter === 'all' ? '' : `${filter.replace('_', ' ')} `}${type === 'all' ? 'item' : type} matches`
          : table([
              ['id', 'type', 'status', 'folder', 'date', 'subject / name'],
              ...rows.map(({ s, path }) => [
                String(s.itemId),
                s.itemType,
                s.status,
                path,
                human(s.status === 'live' ? s.createdAt : s.deletedAt, zone),
                clip(itemLabel(s)),
              ]),
            ]),
    }
  },
}

export const diffVerb: Verb = {
  name: 'diff',
  summary: 'Shows what changed in an account between two dates: items added, removed, moved, re-flagged and changed (a contact or event edited, field by field).',
  positionals: [account, { name: 'date1', help: 'start date (or first)' }, { name: 'date2', help: 'end date (or last)' }],
  attributes: [],
  examples: ['mailtime diff alice@example.com "01/03/2026 00:00:00" "08/03/2026 00:00:00"'],
  run: async (ctx, { positionals: [raw = '', d1 = '', d2 = ''] }) => {
    const a = await resolve(ctx, raw)
    const { zone } = ctx
    const t1 = instantArg(d1, zone, 'date1', { first: true, last: true })
    const t2 = instantArg(d2, zone, 'date2', { first: true, last: true })
    if (t2 < t1) throw usage('diff: date2 is before date1')
    await noteDates(ctx, a, [{ what: 'date1', at: t1, asOf: true }, { what: 'date2', at: t2, asOf: true }])
    const d = await must(diff((await ctx.backend()).index, a, t1, t2))
    // Content changes: a contact or event edited says what changed, field by field.
    const changed = d.changed.map((c) => ({
      itemId: c.itemId,
      itemType: c.itemType,
      folderPath: c.folderPath,
      name: itemLabel(c.after),
      changes: [...(c.before.name !== c.after.name && c.itemType !== 'message' ? [`name ${c.before.name ?? '(none)'} → ${c.after.name ?? '(none)'}`] : []), ...davChanges(c.before, c.after)],
    }))
    const line = (i: { itemId: number; itemType: string; folderPath: string; state: ItemState }) =>
      [String(i.itemId), i.itemType, i.folderPath, clip(itemLabel(i.state))]
    const text = [
      `${a}: ${human(t1, zone)} → ${human(t2, zone)}`,
      `added ${d.added.length}, removed ${d.removed.length}, moved ${d.moved.length}, re-flagged ${d.reflagged.length}, changed ${changed.length}`,
      ...(d.added.length ? ['', 'added:', table(d.added.slice(0, 50).map(line))] : []),
      ...(d.removed.length ? ['', 'removed:', table(d.removed.slice(0, 50).map(line))] : []),
      ...(d.moved.length ? ['', 'moved:', table(d.moved.slice(0, 50).map((m) => [String(m.itemId), m.itemType, `${m.fromPath} → ${m.toPath}`]))] : []),
      ...(d.reflagged.length
        ? ['', 're-flagged:', table(d.reflagged.slice(0, 50).map((r) => [String(r.itemId), `${r.flagsBefore.join(' ') || '-'} → ${r.flagsAfter.join(' ') || '-'}`, `${r.tagsBefore.join(',') || '-'} → ${r.tagsAfter.join(',') || '-'}`]))]
        : []),
      ...(changed.length ? ['', 'changed:', table(changed.slice(0, 50).map((c) => [String(c.itemId), c.itemType, c.folderPath, clip(c.name), c.changes.join('; ') || 'content changed']))] : []),
    ]
    return {
      json: {
        account: a,
        from: when(t1, zone) ?? 'last',
        to: when(t2, zone) ?? 'last',
        added: d.added.map((i) => itemJson(i.state, i.folderPath, zone)),
        removed: d.removed.map((i) => itemJson(i.state, i.folderPath, zone)),
        moved: d.moved,
        reflagged: d.reflagged,
        changed,
      },
      text: text.join('\n'),
    }
  },
}

export const getAvailableAccounts: Verb = {
  name: 'getAvailableAccounts',
  summary: 'Lists the accounts the backup holds.',
  positionals: [],
  attributes: [],
  examples: ['mailtime getAvailableAccounts --json'],
  run: async (ctx) => {
    const b = await ctx.backend()
    const ids = await must(listAccountIds(b))
    const sums = []
    for (const id of ids) sums.push(await must(accountSummary(b, id)))
    return {
      json: {
        accounts: sums.map((s) => ({
          account: s.state.accountId,
          name: s.state.name,
          deleted: s.state.deletedAt !== undefined,
          legalHold: s.state.legalHold !== undefined,
          events: s.revision + 1,
        })),
      },
      text:
        sums.length === 0
          ? 'no accounts in this store'
          : table([
              ['account', 'name', 'status', 'events'],
              ...sums.map((s) => [
                s.state.accountId,
                s.state.name,
                [s.state.deletedAt !== undefined ? 'deleted' : 'active', s.state.legalHold !== undefined ? 'legal hold' : ''].filter(Boolean).join(', '),
                String(s.revision + 1),
              ]),
            ]),
    }
  },
}

export const getAccountInfo: Verb = {
  name: 'getAccountInfo',
  summary: 'Shows what the backup knows of an account: names, creation, deletion, legal hold, counts.',
  positionals: [account],
  attributes: [],
  examples: ['mailtime getAccountInfo alice@example.com'],
  run: async (ctx, { positionals: [raw = ''] }) => {
    const a = await resolve(ctx, raw)
    const b = await ctx.backend()
    const { zone } = ctx
    const s = await must(accountSummary(b, a))
    const last = { validAt: MAX_INSTANT as Instant }
    const live = await must(b.index.liveItemsAsOf(a, last))
    const deleted = await must(b.index.deletedBetween(a, { from: 0 as Instant, to: MAX_INSTANT as Instant }))
    const first = await must(b.store.readStream(streamOfAccount(a), { maxCount: 1 }))
    const latest = await must(b.store.readStream(streamOfAccount(a), { direction: 'backwards', maxCount: 1 }))
    const info = {
      account: a,
      name: s.state.name,
      createdAt: when(s.state.createdAt, zone),
      deletedAt: when(s.state.deletedAt, zone),
      legalHold: s.state.legalHold === undefined ? null : { by: s.state.legalHold.by, since: when(s.state.legalHold.since, zone) },
      liveItems: live.filter((x) => x.itemType !== 'folder').length,
      liveFolders: live.filter((x) => x.itemType === 'folder').length,
      deletions: deleted.length,
      events: s.revision + 1,
      firstRecordedAt: when(first[0]?.event.recordedAt, zone),
      lastRecordedAt: when(latest[0]?.event.recordedAt, zone),
    }
    return {
      json: info,
      text: table([
        ['account', a],
        ['name', info.name],
        ['created', human(s.state.createdAt, zone)],
        ['deleted', s.state.deletedAt === undefined ? 'no' : human(s.state.deletedAt, zone)],
        ['legal hold', s.state.legalHold === undefined ? 'no' : `yes, set by ${s.state.legalHold.by} at ${human(s.state.legalHold.since, zone)}`],
        ['live items', String(info.liveItems)],
        ['folders', String(info.liveFolders)],
        ['deletions', String(info.deletions)],
        ['events', String(info.events)],
        ['recorded', `${human(first[0]?.event.recordedAt, zone)} → ${human(latest[0]?.event.recordedAt, zone)}`],
      ]),
    }
  },
}

export const rebuildIndex: Verb = {
  name: 'rebuildIndex',
  summary: 'Drops the temporal index and builds it again from the events.',
  positionals: [],
  attributes: [],
  examples: ['mailtime rebuildIndex'],
  run: async (ctx) => {
    const started = Date.now()
    ctx.progress.start('rebuilding index', 0)
    const r = await (await ctx.backend()).index.rebuild((done, total) => {
      ctx.progress.start('rebuilding index', total)
      ctx.progress.update(done)
    })()
    ctx.progress.stop()
    if (E.isLeft(r)) throw fromStoreError(r.left)
    const ms = Date.now() - started
    return {
      json: { items: r.right.items, versions: r.right.versions, milliseconds: ms },
      text: `index rebuilt: ${r.right.items} items, ${r.right.versions} versions in ${(ms / 1000).toFixed(1)} s`,
    }
  },
}

