# A small Flask app, served by real uWSGI in the uwsgi transport's tests.
from flask import Flask, jsonify, redirect, request

app = Flask(__name__)


@app.get('/hello')
def hello():
    return 'hello %s' % request.args.get('name', 'nobody')


@app.post('/echo')
def echo():
    return request.get_data(), 201, {'Content-Type': 'application/octet-stream', 'X-Seen-Length': request.headers.get('Content-Length', '')}


@app.get('/cookies')
def cookies():
    return jsonify(request.cookies)


@app.get('/go')
def go():
    return redirect('/hello?name=redirected')


application = app
