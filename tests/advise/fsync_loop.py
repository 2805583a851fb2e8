# Small writes, each made durable with fsync: the disk is the wait.
import os, sys

fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
for i in range(int(sys.argv[2])):
    os.write(fd, b"x" * 4096)
    os.fsync(fd)
os.close(fd)
os.remove(sys.argv[1])
