"""Many municipalities in one night: one isolated run per municipality, fanned out on Dask.

    file.py     the fleet file: load_fleet(path) -> Fleet (checked at load: names, files, out
                folders, pseudonym keys)
    run.py      run_municipality(job) -> Outcome, the one per-municipality task (CLI `targetgroup
                fleet`, Prefect flow `fleet` in flows/fleet.py); run_fleet on a local or an
                existing Dask cluster, or one after another in this process
    summary.py  per municipality status, counts, seconds, worker: rows, fleet_summary.json
    sample.py   the synthetic fleet of Denmark's 98 municipalities (`targetgroup sample --fleet`)

docs/fleet.md describes the fleet file, sizing workers, isolation and retries.
"""
