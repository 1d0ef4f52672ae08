"""WhatsApp Cloud API: client, error taxonomy, retry decisions, webhooks, local fake.

Import from the modules (``tripcast.whatsapp.client``, ``.api_errors``, ``.retry``,
``.webhook``, ``.phone``, ``.fake``); this package stays empty so that importing
``tripcast.whatsapp.phone`` does not pull in the HTTP stack.
"""
