// Integration tests start databases and servers; give slow shared machines room.
jest.setTimeout(60_000);
