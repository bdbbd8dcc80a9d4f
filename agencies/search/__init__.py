"""Search: from what someone typed into the box to a ranked page of agencies.

A query goes through one module per step:

1. `understand` — is it a phone number, a credit code or a name? (`classify()`)
2. `candidates` — which agencies have a name that matches the folded text?
3. `rank` — how well each one matches; the only module that knows how a rank is encoded;
4. `present` — the total, the facets and one page of hits (`search_names()`).

`textnorm` folds names and queries alike (Traditional to Simplified, full-width,
company-form suffixes, pinyin); `models` holds the gram index that step 2
reads and `index` keeps it in step with the registry. `filters` and `views`
serve the search page. See docs/search.md.
"""
