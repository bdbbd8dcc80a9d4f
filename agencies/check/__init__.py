"""The message check (/check/, POST /api/v1/check): what a pasted SMS, chat or
call note says, read for the person who received it.

- `reading.read()` is the whole check: the phone numbers and credit codes in
  the text (agencies.phones, agencies.uscc), the registered names in it
  (`names`), the claims that match a known pattern (`signals`, whose rules are
  data in `signals.yaml`, reviewed like an article) or that the clause model
  trained on the evaluation set's tuning half reads (`model`, `model.json`),
  and the steps those claims call for.
- Nothing here stores, logs or caches the text: it lives for one request.
"""
