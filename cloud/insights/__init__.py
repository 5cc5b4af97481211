"""Insights from the trading record: recommendations for members (C side) and a credit profile
for lenders (B side), and the synthetic data they are evaluated on (see docs/insights.md)."""
