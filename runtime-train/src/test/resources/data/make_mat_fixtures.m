% Writes the MAT-file fixtures of the data-package tests with GNU Octave (an independent MAT-5 writer).
% Run once from this folder: octave --no-gui make_mat_fixtures.m   (tests never need Octave)
1;

% --- Stanford Cars, all-in-one layout: cars_annos.mat (struct array annotations + cell class_names)
class_names = {'Acura RL Sedan 2012', 'AM General Hummer SUV 2000', 'Ram C/V Cargo Van Minivan 2012', 'smart fortwo Convertible 2012'};
paths = {'car_ims/000001.jpg', 'car_ims/000002.jpg', 'car_ims/000003.jpg', 'car_ims/000004.jpg', 'car_ims/000005.jpg', 'car_ims/000006.jpg'};
classes = [1 2 3 4 2 1];
tests = [0 0 0 1 1 0];
annotations = struct('relative_im_path', paths, 'bbox_x1', num2cell(uint8([1 2 3 4 5 6])), ...
                     'bbox_y1', num2cell([1 1 1 1 1 1]), 'bbox_x2', num2cell([40 40 40 40 40 40]), ...
                     'bbox_y2', num2cell([29 29 29 29 29 29]), 'class', num2cell(uint8(classes)), ...
                     'test', num2cell(uint8(tests)));
save('-v7', 'cars_annos/cars_annos.mat', 'annotations', 'class_names');

% --- Stanford Cars, devkit layout
save('-v7', 'cars_devkit/devkit/cars_meta.mat', 'class_names');
annotations = struct('bbox_x1', num2cell([1 2 3 4]), 'bbox_y1', num2cell([1 1 1 1]), ...
                     'bbox_x2', num2cell([40 40 40 40]), 'bbox_y2', num2cell([29 29 29 29]), ...
                     'class', num2cell([4 3 2 1]), 'fname', {'00001.jpg', '00002.jpg', '00003.jpg', '00004.jpg'});
save('-v7', 'cars_devkit/devkit/cars_train_annos.mat', 'annotations');
annotations = struct('bbox_x1', num2cell([1 2 3]), 'bbox_y1', num2cell([1 1 1]), ...
                     'bbox_x2', num2cell([40 40 40]), 'bbox_y2', num2cell([29 29 29]), ...
                     'class', num2cell([2 2 1]), 'fname', {'00001.jpg', '00002.jpg', '00003.jpg'});
% -v6: the uncompressed level-5 variant, as older MATLAB releases wrote it
save('-v6', 'cars_devkit/cars_test_annos_withlabels.mat', 'annotations');

% --- Stanford Dogs: N x 1 cells of relative paths, 1-based double labels
file_list = {'n02085620-Chihuahua/n02085620_5927.jpg'; 'n02085782-Japanese_spaniel/n02085782_2874.jpg'; 'n02086240-Shih-Tzu/n02086240_6084.jpg'};
annotation_list = {'n02085620-Chihuahua/n02085620_5927'; 'n02085782-Japanese_spaniel/n02085782_2874'; 'n02086240-Shih-Tzu/n02086240_6084'};
labels = [1; 2; 3];
save('-v7', 'dogs/train_list.mat', 'file_list', 'annotation_list', 'labels');
file_list = {'n02085620-Chihuahua/n02085620_4441.jpg'; 'n02086240-Shih-Tzu/n02086240_1011.jpg'};
annotation_list = {'n02085620-Chihuahua/n02085620_4441'; 'n02086240-Shih-Tzu/n02086240_1011'};
labels = [1; 3];
save('-v7', 'dogs/test_list.mat', 'file_list', 'annotation_list', 'labels');

% --- Every type the reader claims, compressed (-v7) and not (-v6)
d = [1.5 -2.25 3; 4 5 6e10];
s = single([0.5 -1.25 3.75]);
u8 = uint8([0 1 255]);
i8 = int8([-128 0 127]);
i16 = int16([-32768 7 32767]);
u16 = uint16([0 1000 65535]);
i32 = int32([-2147483648 0 2147483647]);
u32 = uint32([0 123456 4294967295]);
scalar = 42;
text = ['Caf' char(233) ' na' char(239) 've'];
rows = ['ab'; 'cd'; 'ef'];
empty = [];
mixed = {1, 'two', {int16(3)}, [4 5]};
nested.name = 'outer';
nested.inner = struct('value', {1, 2});
nested.list = {'x', 'y'};
save('-v7', 'mat/types_v7.mat', 'd', 's', 'u8', 'i8', 'i16', 'u16', 'i32', 'u32', 'scalar', 'text', 'rows', 'empty', 'mixed', 'nested');
save('-v6', 'mat/types_v6.mat', 'd', 's', 'u8', 'i8', 'i16', 'u16', 'i32', 'u32', 'scalar', 'text', 'rows', 'empty', 'mixed', 'nested');
