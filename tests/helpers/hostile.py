"""Hypothesis strategies for hostile input: JSON of every shape, broken JSON, raw bytes."""

from __future__ import annotations

import json

from hypothesis import strategies as st

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


def bytes_or_json() -> st.SearchStrategy[bytes]:
    """Raw bytes, broken JSON, and JSON of every shape (the interesting corruptions)."""
    return st.one_of(
        st.binary(max_size=300),
        json_values.map(lambda v: json.dumps(v).encode()),
        st.dictionaries(
            st.sampled_from(
                [
                    "version",
                    "projects",
                    "settings",
                    "last_reminded",
                    "default",
                    "session_id",
                    "project_root",
                ]
            ),
            json_values,
            max_size=4,
        ).map(lambda v: json.dumps(v).encode()),
        st.builds(
            lambda b, n: b[:n],
            json_values.map(lambda v: json.dumps(v).encode()),
            st.integers(0, 50),
        ),
    )
