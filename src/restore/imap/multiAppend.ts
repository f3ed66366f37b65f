// MULTIAPPEND moved to src/imap/ with the other IMAP operations; re-exported for the callers that named it here.
export * from '../../imap/multiAppend'
