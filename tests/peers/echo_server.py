# The asyncio documentation's TCP echo server (streams), on 127.0.0.1 port 0.
# Prints its port on the first line of stdout. With --once-reply it reads to
# EOF and then answers "got N bytes\n" (a half-close peer).
import asyncio
import sys


async def handle_echo(reader, writer):
    data = await reader.read(100)
    writer.write(data)
    await writer.drain()
    writer.close()
    await writer.wait_closed()


async def handle_once_reply(reader, writer):
    n = 0
    while True:
        chunk = await reader.read(65536)
        if not chunk:
            break
        n += len(chunk)
    writer.write(b"got %d bytes\n" % n)
    await writer.drain()
    writer.close()


async def handle_line_echo(reader, writer):
    while True:
        line = await reader.readline()
        if not line:
            break
        writer.write(line)
        await writer.drain()
    writer.close()


async def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "--echo"
    cb = {"--echo": handle_echo, "--once-reply": handle_once_reply,
          "--lines": handle_line_echo}[mode]
    server = await asyncio.start_server(cb, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()

asyncio.run(main())
