from tests.conftest import run


async def test_log_a_rejection(app):
    reply = await run(app, "/rejected asked for a raise who:\"my boss\" fear:7")
    assert not reply.error, reply.plain_text()
    text = reply.plain_text()
    assert "asked for a raise" in text and "1 ask so far" in text
    print(text)
