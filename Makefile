.PHONY: install run test build bench docker clean

install:
	npm ci

run:
	npm start

test:
	npm test

build:
	npm run build

bench:
	npm run bench

docker:
	docker build -t rkms .

clean:
	rm -rf dist coverage
