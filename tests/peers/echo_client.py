# The asyncio documentation's TCP echo client: sends argv[3], prints what
# comes back. Used against cstream serve --echo.
import asyncio
import sys


async def tcp_echo_client(message, host, port):
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(message.encode())
    await writer.drain()
    data = await reader.read(100)
    print(f"Received: {data.decode()!r}")
    writer.close()
    await writer.wait_closed()

asyncio.run(tcp_echo_client(sys.argv[3], sys.argv[1], int(sys.argv[2])))
