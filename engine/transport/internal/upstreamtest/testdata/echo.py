# A WSGI app that reports what it was given, for the transports' tests.
import json
import time


def application(environ, start_response):
    # nginx's fastcgi_params send no PATH_INFO, only DOCUMENT_URI.
    path = environ.get('PATH_INFO') or environ.get('DOCUMENT_URI', '')
    query = environ.get('QUERY_STRING', '')
    if path == '/raise':
        raise RuntimeError('failing before start_response')
    if path == '/sleep':
        time.sleep(float(query or '2'))
    body = environ['wsgi.input'].read()
    report = {
        'environ': {k: v for k, v in environ.items() if isinstance(v, str)},
        'body': body.decode('latin-1'),
    }
    out = json.dumps(report).encode()
    headers = [('Content-Type', 'application/json'), ('Content-Length', str(len(out)))]
    if path == '/big-header':
        headers.append(('X-Big', 'x' * int(query)))
    start_response('200 OK', headers)
    return [out]
