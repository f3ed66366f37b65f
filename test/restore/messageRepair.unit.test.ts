/** The repairs a restore applies only when asked (`repair bare_lf`): what each does to a message's bytes. */
import { applyRepairs, crlfLineEndings, repairFor } from '../../src/restore/messageRepair'

describe('repair bare_lf', () => {
  it('makes every bare LF a CRLF, and leaves CRLF, a lone CR and the rest of the bytes as they are', () => {
    expect(crlfLineEndings(Buffer.from('Subject: x\n\r\nbody\rmore\nend'))?.toString()).toBe('Subject: x\r\n\r\nbody\rmore\r\nend')
    expect(crlfLineEndings(Buffer.from('\nfirst'))?.toString()).toBe('\r\nfirst')
    expect(crlfLineEndings(Buffer.from([0xff, 0x0a, 0x00]))).toEqual(Buffer.from([0xff, 0x0d, 0x0a, 0x00]))
  })

  it('gives nothing to repair for a message that has no bare LF, and applies nothing unasked', () => {
    expect(crlfLineEndings(Buffer.from('Subject: x\r\n\r\nbody\r\n'))).toBeUndefined()
    const bare = Buffer.from('Subject: x\n\nbody\n')
    expect(applyRepairs(bare, new Set())).toEqual({ bytes: bare, applied: [] })
    expect(applyRepairs(bare, new Set(['bare_lf']))).toEqual({ bytes: Buffer.from('Subject: x\r\n\r\nbody\r\n'), applied: ['bare_lf'] })
  })

  it('names the repair for the refusal it overcomes, and none for others', () => {
    expect(repairFor('Message contains bare newlines')).toBe('bare_lf')
    expect(repairFor('Message contains invalid header')).toBeUndefined()
  })
})
