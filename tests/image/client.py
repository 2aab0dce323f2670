"""What a person does with the running image: ask its probes and send it digit pictures."""

from pathlib import Path

import requests
from testinfra.host import Host

TCP_LISTEN = "0A"


def top_label(url: str, picture: Path) -> str:
    """POST a PNG to /predict and return the best label."""
    response = requests.post(
        f"{url}/predict",
        data=picture.read_bytes(),
        headers={"Content-Type": "image/png"},
        timeout=30,
    )
    response.raise_for_status()
    return str(response.json()["predictions"][0]["label"])


def accuracy(url: str, labelled: list[tuple[Path, str]]) -> float:
    """Share of the pictures whose best label is the right one."""
    right = sum(top_label(url, picture) == label for picture, label in labelled)
    return right / len(labelled)


def listening_ports(host: Host) -> set[int]:
    """TCP ports in LISTEN state inside the container, from /proc (the image has no ss)."""
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in host.file(table).content_string.splitlines()[1:]:
            fields = line.split()
            if fields[3] == TCP_LISTEN:
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports
