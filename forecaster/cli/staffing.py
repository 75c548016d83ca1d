"""The Erlang calculator command (light to start: it loads no forecasting or scheduling stack)."""

from __future__ import annotations

import math

import click

from forecaster.cli.app import cli, format_option
from forecaster.core.errors import UserError
from forecaster.io.output import render, to_json, write_table
from forecaster.staffing.calculator import Inputs, parse_sl, single, staff_file


def _sl_option(value: str | None) -> tuple[float, float] | None:
    return None if value is None else parse_sl(value)


@cli.command()
@click.option("--contacts", "--calls", "contacts", type=float,
              help="Contacts offered in the interval (--calls: the old name, still read in 0.2).")
@click.option("--interval", "interval_min", type=float, default=30, show_default=True, help="Interval length, minutes.")
@click.option("--aht", "aht_s", type=float, help="Average handling time, seconds.")
@click.option("--sl", "sl_text", metavar="PCT/SEC", help="Service-level target, e.g. 80/20. Default 80/20 unless --asa.")
@click.option("--asa", "asa_s", type=float, help="Average-speed-of-answer target in seconds (instead of --sl).")
@click.option("--model", type=click.Choice(["erlang_c", "erlang_a"]), default="erlang_c", show_default=True)
@click.option("--patience", "patience_s", type=float, help="Mean patience in seconds (Erlang A).")
@click.option("--shrinkage", type=float, default=0.0, show_default=True, help="Fraction of paid time not available.")
@click.option("--max-occupancy", type=float, default=1.0, show_default=True, help="Occupancy cap, a fraction.")
@click.option("--max-abandon", type=float, default=1.0, show_default=True, help="Abandonment cap, a fraction (Erlang A).")
@click.option("--concurrency", type=int, default=1, show_default=True, help="Sessions per agent (chat).")
@click.option("--agents", type=int, help="Answer the reverse question: what do N agents achieve?")
@click.option("--input", "input_path", type=click.Path(dir_okay=False), help="Staff every row of a CSV/Parquet file.")
@click.option("--out", type=click.Path(dir_okay=False), help="Write the bulk result here (.csv, .parquet, .json).")
@format_option
def erlang(contacts, interval_min, aht_s, sl_text, asa_s, model, patience_s, shrinkage, max_occupancy, max_abandon,
           concurrency, agents, input_path, out, fmt) -> None:
    """Erlang C / Erlang A calculator: agents for one interval, or for every row of a file.

    Prints the required agents and a what-if table of agent counts around it (service level,
    ASA, probability of waiting, occupancy, and abandonment for Erlang A). With --input, reads
    rows with columns contacts (or calls, the old name), interval_min, aht_s and optionally sl, answer_s, patience_s,
    shrinkage, max_occupancy, model (the options give the defaults) and writes them back with
    the result columns.

    \b
    Example:
      forecaster erlang --contacts 100 --interval 30 --aht 180 --sl 80/20 --shrinkage 0.3
      forecaster erlang --contacts 100 --aht 180 --model erlang_a --patience 60 --agents 12 --format json
      forecaster erlang --input intervals.csv --out staffed.csv
    """

    sl = _sl_option(sl_text or "80/20") if sl_text or asa_s is None else None
    defaults = dict(interval_min=interval_min, sl=sl[0] if sl else None, answer_s=sl[1] if sl else None,
                    asa_target_s=asa_s, model=model, patience_s=patience_s, shrinkage=shrinkage,
                    max_occupancy=max_occupancy, max_abandon=max_abandon, concurrency=concurrency)
    if input_path:
        result = staff_file(input_path, Inputs(contacts=0.0, aht_s=1.0, **defaults))
        if out:
            click.echo(f"Staffed {result.num_rows:,} rows; wrote {write_table(result, out, "erlang_bulk")}.")
        else:
            click.echo(render(result.to_pandas(), fmt))
        return
    if contacts is None or aht_s is None:
        raise UserError("give --contacts and --aht (or --input FILE); see 'forecaster erlang --help'")
    result = single(Inputs(contacts=contacts, aht_s=aht_s, **defaults), agents=agents)
    table = result.pop("what_if").to_pandas()
    if fmt == "json":
        click.echo(to_json({**result, "what_if": table.to_dict("records")}))
        return
    if fmt == "csv":
        click.echo(render(table, "csv"))
        return
    head = (f"Required: {result['required_agents']} agents ({result['agents_with_shrinkage']:.0f} to schedule with "
            f"{shrinkage:.0%} shrinkage)" if agents is None else
            f"With {agents} agents (target needs {result['required_agents']})")
    parts = [f"service level {result['service_level']:.1%}" if not math.isnan(result["service_level"]) else None,
             f"ASA {result['asa_s']:.1f} s", f"P(wait) {result['p_wait']:.1%}", f"occupancy {result['occupancy']:.1%}",
             f"abandon {result['abandon']:.1%}" if model == "erlang_a" else None]
    click.echo(f"{head}: " + ", ".join(p for p in parts if p))
    click.echo(render(table.round(4), "table"))
