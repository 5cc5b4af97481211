"""Sales sync: every completed transaction to the cloud's sales ledger exactly once
(docs/sales-sync.md, "The terminal side").  `record` turns a transaction-list entry into the
upload's JSON, `queue` keeps uploads on flash until the cloud has them, `uploader` is the
background task that sends them.  Loaded only once the counter has a transaction to send."""
