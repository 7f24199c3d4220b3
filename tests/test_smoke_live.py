import httpx

from tests.live import LiveServer


def test_live_server_serves_home_and_takes_a_report(live_server_process: LiveServer) -> None:
    home = httpx.get(live_server_process.url + "/en/")
    assert home.status_code == 200
    assert "Quick exit" in home.text
    answer = httpx.post(
        live_server_process.url + "/api/v1/reports",
        json={"category": "other", "what_happened": "A stranger keeps messaging my brother."},
    )
    assert answer.status_code == 201
    receipt = answer.json()["receipt"]
    status = httpx.post(
        live_server_process.url + "/api/v1/followup/status", json={"receipt": receipt}
    )
    assert status.json()["status"] == "received"
