"""A small Flask app built by an app factory, as in Flask's tutorial."""
import os

from flask import Flask, jsonify, request, url_for


def create_app(test_config=None):
    app = Flask(__name__)

    @app.route("/")
    def index():
        return ("<!doctype html><link rel=stylesheet href='%s'>"
                "<h1>Hello from Flask</h1><p>pid %d</p>"
                % (url_for("static", filename="app.css"), os.getpid()))

    @app.route("/api/<name>", methods=["GET", "POST"])
    def api(name):
        return jsonify(hello=name, method=request.method,
                       form=request.form.to_dict(), pid=os.getpid())

    return app
