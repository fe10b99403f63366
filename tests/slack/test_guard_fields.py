"""The guard reads only the fields it checks from a form, exactly as bolt will read them
(``parse_qsl``): whatever the encoding, the two never disagree on a team, a user or a payload."""

from urllib.parse import parse_qsl

from hypothesis import given
from hypothesis import strategies as st

from adapters.slack.guard import form_fields

NAMES = st.sampled_from(["payload", "ssl_check", "team_id", "user_id", "team%5Fid", "user+id",
                         "team_id%00", "x", "", "text"])
VALUES = st.text(alphabet="ab%2F+=&;xyz%E2%82%AC %ZZ", max_size=14)


@given(st.lists(st.tuples(NAMES, VALUES, st.booleans()), max_size=8))
def test_the_checked_fields_read_as_parse_qsl_reads_them(parts):
    body = "&".join(name + ("=" + value if eq else "") for name, value, eq in parts)
    expected = {k: v for k, v in parse_qsl(body, keep_blank_values=True)
                if k in {"payload", "ssl_check", "team_id", "user_id"}}
    assert form_fields(body) == expected
