"""Answering travellers as a person would: read receipts, typing indicator, their media."""
