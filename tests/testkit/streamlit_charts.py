"""Reading back the charts a Streamlit page drew under AppTest."""

from __future__ import annotations

import json

import pandas as pd


def chart_layers(element) -> list[pd.DataFrame]:
    """The data of each layer of a chart the page drew (Streamlit ships each dataset once, as Arrow IPC)."""
    import pyarrow as pa

    datasets = {d.name: pa.ipc.open_stream(d.data.data).read_all().to_pandas() for d in element.proto.datasets}
    spec = json.loads(element.proto.spec)
    return [datasets[layer["data"]["name"]] for layer in spec.get("layer", [spec])]
