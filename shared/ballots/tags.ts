/** Every domain-separation tag of qv/v1 (BALLOTS.md), one per kind of hash, never reused. */
export const tags = {
  ceremony: 'qv/v1/ceremony',
  manifest: 'qv/v1/manifest',
  pok: 'qv/v1/pok',
  selection: 'qv/v1/selection',
  total: 'qv/v1/total',
  tracker: 'qv/v1/tracker',
  ballot: 'qv/v1/ballot',
  decrypt: 'qv/v1/decrypt',
  shareTransport: 'qv/v1/share-transport',
} as const;

/** The record's `version`. */
export const RECORD_VERSION = 'qv/v1';
