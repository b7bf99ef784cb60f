module github.com/moxifleet/moxi

go 1.26
