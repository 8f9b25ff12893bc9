console.log('no cases yet');
