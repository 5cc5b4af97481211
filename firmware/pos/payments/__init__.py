# Payments: transaction engine, host link, routing, reversals, advices, batches.
