/**
 * Verbs that look into the backup without changing it: getItem, getAccountState, doItemSearch,
 * diff, getAvailableAccounts, getAccountInfo, and rebuildIndex (which only rebuilds a derived
 * table).
 */
import * as E from 'fp-ts/Either'
import { MAX_INSTANT } from '../../../domain/instant'
import type { ItemState } from '../../../domain/state'
import { SEARCHABLE_TYPES } from '../../../domain/itemTypes'
import { type SearchFilter, diff, getAccountInfo as accountInfo, getAccountState as accountState, getItem as item, listAccounts, search } from '../../app/inspect'
import { davDetailRows } from '../../dav/fields'
import { appDeps } from '../appDeps'
import { fromStoreError, orExit } from '../failure'
import type { Verb } from '../grammar'
import { clip, human, itemLabel, table } from '../render'

const account = { name: 'account', help: 'account name (login or e-mail address)' }

export const getItem: Verb = {
  name: 'getItem',
  summary: "Shows an item's state as of a date, or every state with its validity interval (date all).",
  positionals: [account, { name: 'item', help: 'item id' }],
  attributes: [{ name: 'date', help: 'dd/MM/yyyy HH:mm:ss, ISO-8601, last (default) or all' }],
  examples: ['mailtime getItem alice@example.com 1042 date all', 'mailtime getItem alice@example.com 1042 date "03/03/2026 14:02:00"'],
  exitCodes: ['3: the account is unknown, or the item never existed in it'],
  run: async (ctx, { positionals: [account = '', itemId = ''], attrs }) => {
    const r = orExit(await item(appDeps(ctx), { account, itemId, ...(attrs.date !== undefined && { date: attrs.date }) }))
    const { zone } = ctx
    if (r.kind === 'history') {
      const dav = r.changes !== undefined
      const rows = r.versions.map((v, i) => [
        human(v.validFrom, zone),
        human(v.validTo, zone),
        v.cause,
        v.state.status,
        v.path,
        v.state.flags.join(' ') || '-',
        v.state.tags.join(',') || '-',
        ...(dav ? [(r.changes?.[i] ?? []).join('; ') || '-'] : []),
      ])
      const first = r.versions[0]?.state
      return {
        json: r.json,
        text: [
          `item ${r.itemId} (${first?.itemType ?? '?'}) of ${r.account}${first !== undefined && itemLabel(first) ? `: ${clip(itemLabel(first))}` : ''}`,
          `times in ${zone}`,
          table([['from', 'to', 'change', 'status', 'folder', 'flags', 'tags', ...(dav ? ['what changed'] : [])], ...rows]),
        ].join('\n'),
      }
    }
    const { at, version: v } = r
    if (v === undefined) return { json: r.json, text: `item ${r.itemId} did not exist yet at ${human(at, zone)} (first seen ${human(r.firstSeen, zone)})` }
    const s = v.state
    return {
      json: r.json,
      text: table([
        ['item', `${r.itemId} (${s.itemType})`],
        ['account', r.account],
        ['as of', at >= MAX_INSTANT ? 'last' : human(at, zone)],
        ['status', s.status + (s.deletedAt !== undefined ? ` since ${human(s.deletedAt, zone)}` : '')],
        ['folder', v.path],
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
  run: async (ctx, { positionals: [account = ''], attrs }) => {
    const {
      json,
      view: v,
      validAt,
      knownAt,
    } = orExit(
      await accountState(appDeps(ctx), { account, ...(attrs.date !== undefined && { date: attrs.date }), ...(attrs.known_at !== undefined && { knownAt: attrs.known_at }) }),
    )
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
    return { json, text: lines.join('\n') }
  },
}

export const doItemSearch: Verb = {
  name: 'doItemSearch',
  summary: 'Finds items in the backup; by default lists deleted messages, as Carbonio does.',
  positionals: [account],
  attributes: [
    {
      name: 'search_string',
      help: 'case-sensitive text matched against subject, from, to, Message-ID and names (contacts, events, tasks: also UID, e-mail addresses, organizer, attendees)',
    },
    { name: 'type', help: 'item type (default message)', values: [...SEARCHABLE_TYPES, 'all'] },
    { name: 'before', help: 'only items deleted (filter deleted) or created (otherwise) before this date' },
    { name: 'after', help: 'only items deleted (filter deleted) or created (otherwise) at or after this date' },
    { name: 'search_filter', help: 'deleted (default), not_deleted or all', values: ['all', 'deleted', 'not_deleted'] },
  ],
  examples: ['mailtime doItemSearch alice@example.com search_string invoice', 'mailtime doItemSearch alice@example.com search_filter all type all'],
  run: async (ctx, { positionals: [account = ''], attrs }) => {
    const { zone } = ctx
    const { json, filter, type, rows } = orExit(
      await search(appDeps(ctx), {
        account,
        ...(attrs.search_string !== undefined && { text: attrs.search_string }),
        ...(attrs.type !== undefined && { type: attrs.type }),
        ...(attrs.before !== undefined && { before: attrs.before }),
        ...(attrs.after !== undefined && { after: attrs.after }),
        ...(attrs.search_filter !== undefined && { filter: attrs.search_filter as SearchFilter }),
      }),
    )
    return {
      json,
      text:
        rows.length === 0
          ? `no ${filter === 'all' ? '' : `${filter.replace('_', ' ')} `}${type === 'all' ? 'item' : type} matches`
          : table([
              ['id', 'type', 'status', 'folder', 'date', 'subject / name'],
              ...rows.map(({ s, path }) => [String(s.itemId), s.itemType, s.status, path, human(s.status === 'live' ? s.createdAt : s.deletedAt, zone), clip(itemLabel(s))]),
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
  run: async (ctx, { positionals: [account = '', from = '', to = ''] }) => {
    const { zone } = ctx
    const { json, account: a, from: t1, to: t2, diff: d, changed } = orExit(await diff(appDeps(ctx), { account, from, to }))
    const line = (i: { itemId: number; itemType: string; folderPath: string; state: ItemState }) => [String(i.itemId), i.itemType, i.folderPath, clip(itemLabel(i.state))]
    const text = [
      `${a}: ${human(t1, zone)} → ${human(t2, zone)}`,
      `added ${d.added.length}, removed ${d.removed.length}, moved ${d.moved.length}, re-flagged ${d.reflagged.length}, changed ${changed.length}`,
      ...(d.added.length ? ['', 'added:', table(d.added.slice(0, 50).map(line))] : []),
      ...(d.removed.length ? ['', 'removed:', table(d.removed.slice(0, 50).map(line))] : []),
      ...(d.moved.length ? ['', 'moved:', table(d.moved.slice(0, 50).map((m) => [String(m.itemId), m.itemType, `${m.fromPath} → ${m.toPath}`]))] : []),
      ...(d.reflagged.length
        ? [
            '',
            're-flagged:',
            table(
              d.reflagged
                .slice(0, 50)
                .map((r) => [
                  String(r.itemId),
                  `${r.flagsBefore.join(' ') || '-'} → ${r.flagsAfter.join(' ') || '-'}`,
                  `${r.tagsBefore.join(',') || '-'} → ${r.tagsAfter.join(',') || '-'}`,
                ]),
            ),
          ]
        : []),
      ...(changed.length
        ? ['', 'changed:', table(changed.slice(0, 50).map((c) => [String(c.itemId), c.itemType, c.folderPath, clip(c.name), c.changes.join('; ') || 'content changed']))]
        : []),
    ]
    return { json, text: text.join('\n') }
  },
}

export const getAvailableAccounts: Verb = {
  name: 'getAvailableAccounts',
  summary: 'Lists the accounts the backup holds.',
  positionals: [],
  attributes: [],
  examples: ['mailtime getAvailableAccounts --json'],
  run: async (ctx) => {
    const { json, accounts: sums } = orExit(await listAccounts(appDeps(ctx)))
    return {
      json,
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
  run: async (ctx, { positionals: [account = ''] }) => {
    const { zone } = ctx
    const { json: info, summary: s, firstRecordedAt, lastRecordedAt } = orExit(await accountInfo(appDeps(ctx), { account }))
    return {
      json: info,
      text: table([
        ['account', info.account],
        ['name', info.name],
        ['created', human(s.state.createdAt, zone)],
        ['deleted', s.state.deletedAt === undefined ? 'no' : human(s.state.deletedAt, zone)],
        ['legal hold', s.state.legalHold === undefined ? 'no' : `yes, set by ${s.state.legalHold.by} at ${human(s.state.legalHold.since, zone)}`],
        ['live items', String(info.liveItems)],
        ['folders', String(info.liveFolders)],
        ['deletions', String(info.deletions)],
        ['events', String(info.events)],
        ['recorded', `${human(firstRecordedAt, zone)} → ${human(lastRecordedAt, zone)}`],
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
