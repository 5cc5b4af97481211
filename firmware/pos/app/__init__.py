# Merchant application: the shell (Ready screen, menus) and the transaction flows.
