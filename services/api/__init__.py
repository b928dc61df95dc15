"""The REST API (/api/v1/): the same records, rules and actions as the pages.

Every record is loaded through services.access (404 for what is not yours, 403 for what you
may see but not change, an access-log entry for every person's record opened) and every write
goes through services.actions, validated by the same forms as the pages. Serializers only
shape what is read; they hold no rule of their own.
"""
