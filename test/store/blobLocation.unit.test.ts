/** `--blobs` values: a folder or s3://bucket/prefix, completed from the environment and the config file. */
import * as E from 'fp-ts/Either'
import { DEFAULT_S3_TUNING, blobKey, digestOfKey, parseS3Location, resolveBlobSpec } from '../../src/blobs/blobLocation'

const D = 'ab'.repeat(32)

describe('blob store locations', () => {
  it('takes anything without a scheme as a folder', () => {
    expect(resolveBlobSpec('./mailtime-data/blobs', {})).toEqual(E.right({ kind: 'fs', root: './mailtime-data/blobs' }))
  })

  it('reads s3://bucket/prefix, with or without a prefix or trailing slash', () => {
    expect(parseS3Location('s3://mail-backup/site-a/blobs/')).toEqual(E.right({ bucket: 'mail-backup', prefix: 'site-a/blobs' }))
    expect(parseS3Location('s3://mail-backup')).toEqual(E.right({ bucket: 'mail-backup', prefix: '' }))
    expect(parseS3Location('S3://mail-backup/')).toEqual(E.right({ bucket: 'mail-backup', prefix: '' }))
  })

  it('refuses credentials in the location without repeating them, and bad bucket names or prefixes', () => {
    const cred = parseS3Location('s3://AKIA123:hunter2@mail-backup/x')
    expect(E.isLeft(cred) && cred.left).toMatch(/credentials or a port do not go in the S3 location/)
    expect(JSON.stringify(cred)).not.toContain('hunter2')
    for (const bad of ['s3://Mail_Backup/x', 's3://ab/x', 's3:///x', 's3://mail-backup/a//b', 's3://mail-backup/a/../b', 's3://mail-backup/x?versionId=1'])
      expect(E.isLeft(parseS3Location(bad))).toBe(true)
    expect(resolveBlobSpec('https://mail-backup/x', {})).toEqual(E.left('--blobs "https://mail-backup/x": a blob store is a folder or s3://bucket/prefix'))
  })

  it('takes the endpoint, path style, region and credentials from the environment before the config file', () => {
    const env = { MAILTIME_S3_ENDPOINT: 'http://127.0.0.1:9000/', AWS_ACCESS_KEY_ID: 'envkey', AWS_SECRET_ACCESS_KEY: 'envsecret', AWS_REGION: 'eu-west-3' }
    const config = { endpoint: 'https://s3.example.org', region: 'us-east-2', accessKeyId: 'cfgkey', secretAccessKey: 'cfgsecret' }
    expect(resolveBlobSpec('s3://mail-backup/p', env, config)).toEqual(
      E.right({
        kind: 's3',
        bucket: 'mail-backup',
        prefix: 'p',
        endpoint: 'http://127.0.0.1:9000',
        region: 'eu-west-3',
        forcePathStyle: true,
        credentials: { accessKeyId: 'envkey', secretAccessKey: 'envsecret' },
        tuning: DEFAULT_S3_TUNING,
      }),
    )
    expect(resolveBlobSpec('s3://mail-backup/p', {}, config)).toEqual(
      E.right({
        kind: 's3',
        bucket: 'mail-backup',
        prefix: 'p',
        endpoint: 'https://s3.example.org',
        region: 'us-east-2',
        forcePathStyle: true,
        credentials: { accessKeyId: 'cfgkey', secretAccessKey: 'cfgsecret' },
        tuning: DEFAULT_S3_TUNING,
      }),
    )
  })

  it('uses virtual-hosted addressing and the SDK credential chain for AWS itself, unless told otherwise', () => {
    expect(resolveBlobSpec('s3://mail-backup', {})).toEqual(
      E.right({ kind: 's3', bucket: 'mail-backup', prefix: '', region: 'us-east-1', forcePathStyle: false, tuning: DEFAULT_S3_TUNING }),
    )
    expect(resolveBlobSpec('s3://mail-backup', { MAILTIME_S3_ENDPOINT: 'http://garage:3900', MAILTIME_S3_PATH_STYLE: 'false' })).toMatchObject(E.right({ forcePathStyle: false }))
    expect(resolveBlobSpec('s3://mail-backup', { MAILTIME_S3_PATH_STYLE: 'maybe' })).toEqual(E.left('MAILTIME_S3_PATH_STYLE must be true or false, got "maybe"'))
  })

  it('refuses a bad endpoint, one with credentials in it, and half a key pair', () => {
    expect(E.isLeft(resolveBlobSpec('s3://mail-backup', { MAILTIME_S3_ENDPOINT: 'minio:9000' }))).toBe(true)
    const withCred = resolveBlobSpec('s3://mail-backup', { MAILTIME_S3_ENDPOINT: 'http://k:hunter2@minio:9000' })
    expect(E.isLeft(withCred) && withCred.left).toMatch(/must not carry credentials/)
    expect(JSON.stringify(withCred)).not.toContain('hunter2')
    expect(resolveBlobSpec('s3://mail-backup', { AWS_ACCESS_KEY_ID: 'k' })).toEqual(E.left('AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY go together: one is set without the other'))
  })

  it('lays blobs out as the folder store does, and recognises only keys of that layout', () => {
    expect(blobKey('site/blobs', D)).toBe(`site/blobs/ab/${D}`)
    expect(blobKey('', D)).toBe(`ab/${D}`)
    expect(digestOfKey('site/blobs', `site/blobs/ab/${D}`)).toBe(D)
    expect(digestOfKey('', `ab/${D}`)).toBe(D)
    for (const k of [`site/blobs/cd/${D}`, `other/ab/${D}`, `site/blobs/ab/${D}.tmp`, 'site/blobs/ab/readme']) expect(digestOfKey('site/blobs', k)).toBeUndefined()
  })
})
