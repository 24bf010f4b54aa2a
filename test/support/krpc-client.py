"""A client that behaves as krpc's Python KRPCClient does, byte for byte, built on urllib like krpc itself.

It is constructed the way krpc's documentation shows, with host and port only, so it posts to
http://host:port (the path "/"). Like krpc it lets urllib raise on any 4xx/5xx status before the body is read, and
raises KRPCClientException for an error envelope. The bytes it sends are those spec/vectors/README.md describes for
krpc: the call as json.dumps output with "pmhparams" always present, an urlencoded json= field without files, and
without other parts a multipart body with boundary -----KrOnOsThEwIzArD, file parts named __file__:<time>-<random>
and typed with str(mimetypes.guess_type(name)), and one more CRLF after the closing delimiter.

Usage: python3 krpc-client.py <host> <port>  with a JSON list of calls on stdin, each
  {"method": "...", "args": [...], "kwargs": {...}, "files": {"<arg index>": "<path>"}, "pmhparams": ...}
Prints one JSON list: per call {"result": ...} or {"raised": "<exception class>", "code", "message", "data", "text"}.
"""
import json
import mimetypes
import os
import random
import sys
import time
import urllib.parse
import urllib.request

BOUNDARY = '-----KrOnOsThEwIzArD'


class KRPCClientException(Exception):
    def __init__(self, code, message, data=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data


class KRPCClient:
    def __init__(self, host, port):
        self.url = 'http://%s:%s' % (host, port)

    def call(self, method, args=None, kwargs=None, files=None, pmhparams=None):
        params = dict(kwargs) if kwargs else list(args or [])
        parts = []
        for index, path in (files or {}).items():
            file_id = '__file__:%s-%s' % (time.time(), random.random())
            params[int(index)] = file_id
            parts.append((file_id, path))
        call = json.dumps({'method': method, 'params': params, 'pmhparams': pmhparams})
        if parts:
            body, content_type = self._multipart(call, parts)
        else:
            body = ('json=' + urllib.parse.quote_plus(call)).encode()
            content_type = 'application/x-www-form-urlencoded'
        request = urllib.request.Request(self.url, data=body, headers={'Content-Type': content_type})
        # urlopen raises HTTPError for any 4xx/5xx before the body is read, as in krpc.
        response = urllib.request.urlopen(request)
        answer = json.loads(response.read())
        if 'error' in answer:
            error = answer['error']
            raise KRPCClientException(error['code'], error['message'], error.get('data'))
        return answer['result']

    @staticmethod
    def _multipart(call, parts):
        lines = [b'--' + BOUNDARY.encode(), b'Content-Disposition: form-data; name="json"', b'', call.encode()]
        for file_id, path in parts:
            name = os.path.basename(path)
            with open(path, 'rb') as handle:
                content = handle.read()
            lines += [b'--' + BOUNDARY.encode(),
                      ('Content-Disposition: form-data; name="%s"; filename="%s"' % (file_id, name)).encode(),
                      ('Content-Type: %s' % (mimetypes.guess_type(name),)).encode(), b'', content]
        lines += [b'--' + BOUNDARY.encode() + b'--', b'']
        return b'\r\n'.join(lines) + b'\r\n', 'multipart/form-data; boundary=%s' % BOUNDARY


def main():
    client = KRPCClient(sys.argv[1], int(sys.argv[2]))
    outcomes = []
    for spec in json.load(sys.stdin):
        try:
            outcomes.append({'result': client.call(spec['method'], spec.get('args'), spec.get('kwargs'),
                                                   spec.get('files'), spec.get('pmhparams'))})
        except KRPCClientException as err:
            outcomes.append({'raised': 'KRPCClientException', 'code': err.code, 'message': err.message,
                             'data': err.data})
        except Exception as err:  # what krpc's callers would see instead: urllib's HTTPError, an IndexError, ...
            outcomes.append({'raised': type(err).__name__, 'text': str(err)})
    json.dump(outcomes, sys.stdout)


main()
