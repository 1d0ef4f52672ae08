"""The WhatsApp template lifecycle: the catalog, its sync, its webhooks, and the check
dispatch makes against it before calling Meta.

- ``rules``: pure decisions (which catalog entry a message uses, whether it may go).
- ``store``: the catalog's reads and writes.
- ``sync``: ``tripcast templates sync`` (paged ``GET message_templates``).
- ``events``: the ``message_template_*`` / ``template_category_update`` webhook fields.
- ``gate``: dispatch's call before sending, and what Meta's 132015 / 132016 teach us.
"""
