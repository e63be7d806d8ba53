"""The floor of the webhook benchmark: a bare FastAPI form endpoint answering TwiML, nothing else."""

from __future__ import annotations

from fastapi import FastAPI, Form, Response

app = FastAPI()


@app.post("/bare")
async def bare(Body: str = Form(""), From: str = Form("")) -> Response:  # noqa: N803 - Twilio's field names
    xml = f'<?xml version="1.0" encoding="UTF-8"?><Response><Message>{len(Body)}</Message></Response>'
    return Response(content=xml, media_type="application/xml")
