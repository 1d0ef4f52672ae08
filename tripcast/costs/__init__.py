"""What WhatsApp messages cost: Meta's per-message pricing, an operator's rate card, reports."""
