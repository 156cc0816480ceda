"""Fast paths for email and phone validation that give the reference libraries' answers.

Each function returns its answer when it is certain and ``UNSURE`` otherwise; only
``mappings.validation`` calls them, falling back to email-validator and phonenumbers.
"""
