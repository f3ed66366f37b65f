import { messageIdOf, uidRanges } from '../../src/restore/imap/imapTarget'

describe('what a re-run asks the server about the copies earlier runs wrote', () => {
  it('asks about UIDs as ranges, ascending, each once', () => {
    expect(uidRanges([7, 3, 4, 5, 9, 4, 10, 1])).toEqual(['1', '3:5', '7', '9:10'])
    expect(uidRanges([])).toEqual([])
  })

  it("finds a message's Message-ID in its header, folded or not, in any case, and never in its body", () => {
    const m = (head: string, body = '') => Buffer.from(`${head}\r\n\r\n${body}`)
    expect(messageIdOf(m('Subject: x\r\nMessage-ID: <a1@example.org>'))).toBe('<a1@example.org>')
    expect(messageIdOf(m('message-id:\r\n <b2@example.org>\r\nSubject: y'))).toBe('<b2@example.org>')
    expect(messageIdOf(m('Subject: z', 'Message-ID: <in-body@example.org>'))).toBeUndefined()
  })
})
