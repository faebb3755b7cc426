def test_an_unknown_api_path_answers_json_404(api):
    response = api.get("/api/v1/tickets-that-do-not-exist")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert "/api/v1/tickets-that-do-not-exist" in response.json()["message"]


def test_inbound_message_filters_refuse_unknown_states(api_client_for, admin):
    response = api_client_for(admin).get("/api/v1/inbound-messages?state=bogus")

    assert response.status_code == 422
    assert response.json()["field"] == "state"


def test_an_offset_past_what_the_database_holds_is_refused(api_client_for, admin):
    response = api_client_for(admin).get("/api/v1/outbound-messages?offset=%d" % 2**70)

    assert response.status_code == 422
    assert response.json()["field"] == "offset"
