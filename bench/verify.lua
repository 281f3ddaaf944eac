-- wrk script: POST /api/v1/keys/verify for one subscribed application key, as a gateway would.
-- Environment: VERIFY_CALLER (the gateway's key), VERIFY_KEY (the key to verify), VERIFY_PRODUCT (slug or id).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("VERIFY_CALLER")
wrk.body = string.format('{"key":"%s","product":"%s"}', os.getenv("VERIFY_KEY"), os.getenv("VERIFY_PRODUCT"))
