def test_events_list(client):
    response = client.get("/v1/events")
    assert response.status_code == 200
    assert len(response.json) > 0
