"""`sselang lsp`: the language server editors talk to (diagnostics as you type,
hover, completion, formatting).

Only `server` needs pygls (the optional `sselang[lsp]` extra); the modules it
calls — positions, lexer, words, hover, completion — are plain Python on top of
the compiler's own front end, so they run and are tested without it.
"""
